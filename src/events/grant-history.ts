import type { SqlEntityManager } from '@mikro-orm/sql';
import type { KnownIdentity } from '../request/identity.js';
import { grantsFrom, identityKey, type Grants, type GrantsRecord } from '../policy/grants.js';
import { json, query } from './event-log.js';

/**
 * What each identity could see from each cursor on: `grant_versions`, written by the event triggers
 * in the transaction that changed someone's grants (migration Issue9Scope). Live streams and replays
 * read the same versions, so both judge an event with the grants in force at its cursor.
 */

/** `cursor` comes as text (a bigint may exceed a JS number's exact range); ORDER BY names the column, not that text */
type VersionRow = { identity: string; cursor: string; grants: GrantsRecord | string | null };

/** null: the identity is gone, deactivated, or did not exist yet at that cursor. */
const asGrants = (identity: KnownIdentity, row: VersionRow | undefined): Grants | null => (row?.grants ? grantsFrom(identity, json(row.grants)) : null);

const inList = (identities: readonly KnownIdentity[]) => `(${identities.map(() => '?').join(', ')})`;

/** The grants of these identities in force at `cursor` (their latest version at or before it), by identity key. */
export async function grantsAt(em: SqlEntityManager, identities: readonly KnownIdentity[], cursor: number): Promise<Map<string, Grants | null>> {
  if (!identities.length) return new Map();
  const rows = await query<VersionRow[]>(
    em,
    `select distinct on (identity) identity, cursor::text as cursor, grants from grant_versions
     where identity in ${inList(identities)} and cursor <= ? order by identity, grant_versions.cursor desc`,
    [...identities.map(identityKey), cursor],
  );
  const byKey = new Map(rows.map((row) => [row.identity, row]));
  return new Map(identities.map((identity) => [identityKey(identity), asGrants(identity, byKey.get(identityKey(identity)))]));
}

/** The versions written at exactly this cursor for these identities: whose grants changed there, and to what. */
export async function grantsChangedAt(em: SqlEntityManager, identities: readonly KnownIdentity[], cursor: number): Promise<Map<string, Grants | null>> {
  if (!identities.length) return new Map();
  const rows = await query<VersionRow[]>(
    em,
    `select identity, cursor::text as cursor, grants from grant_versions where cursor = ? and identity in ${inList(identities)}`,
    [cursor, ...identities.map(identityKey)],
  );
  const byKey = new Map(identities.map((identity) => [identityKey(identity), identity]));
  return new Map(rows.map((row) => [row.identity, asGrants(byKey.get(row.identity)!, row)]));
}

/** One identity's versions after `after` and at most `upTo`, oldest first. */
export async function grantsHistory(em: SqlEntityManager, identity: KnownIdentity, after: number, upTo: number): Promise<{ cursor: number; grants: Grants | null }[]> {
  const rows = await query<VersionRow[]>(
    em,
    'select identity, cursor::text as cursor, grants from grant_versions where identity = ? and cursor > ? and cursor <= ? order by grant_versions.cursor',
    [identityKey(identity), after, upTo],
  );
  return rows.map((row) => ({ cursor: Number(row.cursor), grants: asGrants(identity, row) }));
}
