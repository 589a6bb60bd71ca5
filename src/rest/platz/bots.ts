import { z } from 'zod';
import type { Bot } from '../../entities/index.js';
import { platzSchemas, rowJson, Timestamp } from './schemas.js';

export const BotJson = z.object({ id: z.guid(), created_at: Timestamp, display_name: z.string() });
platzSchemas.add(BotJson, { id: 'Bot' });

export const botJson = (bot: Bot): z.input<typeof BotJson> => ({ ...rowJson(bot), display_name: bot.displayName });
