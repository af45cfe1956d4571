// Which database a DATABASE_URL names: a postgresql:// URL is PostgreSQL, anything else the embedded SQLite.
export type Provider = 'sqlite' | 'postgres';

export function providerFor(url: string | undefined): Provider {
  return url && /^postgres(ql)?:\/\//.test(url) ? 'postgres' : 'sqlite';
}
