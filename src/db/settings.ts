import { randomUUID } from 'node:crypto';
import type { SqlEntityManager } from '@mikro-orm/sql';

/**
 * Returns the stored value for key, creating it with generate() if absent. Safe when several
 * replicas start at once: the first insert wins and everyone reads the winner's value.
 */
export async function getOrCreateSetting(em: SqlEntityManager, key: string, generate: () => string): Promise<string> {
  const conn = em.getConnection();
  await conn.execute('insert into settings (id, key, value) values (?, ?, ?) on conflict (key) do nothing', [randomUUID(), key, generate()]);
  const [row] = await conn.execute<{ value: string }[]>('select value from settings where key = ?', [key]);
  return row.value;
}
