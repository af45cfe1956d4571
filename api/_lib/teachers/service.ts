// Teachers and their cached responses. A teacher cache import is validated whole before anything is written:
// every line must name an existing example of the dataset, and a (teacher, example, sample) may appear once,
// in the file and in the cache. Unknown teacher names are registered as IMPORTED teachers.
// A teacher's endpoint settings (baseUrl, apiKeyEnv) are checked against the operator's allowlists, and once it
// exists only an ADMIN may change them (updateTeacherEndpoint).
import type { Database } from '../db/index.js';
import { rawQuery, toInt } from '../db/sql.js';
import { badInput, conflict, notFound } from '../errors.js';
import { checkOutboundUrl, OutboundError, outboundPolicyOf, type OutboundSettings } from '../net/outbound.js';
import { checkSecretEnvName, type SecretSettings } from '../net/secrets.js';
import type { LineError } from '../datasets/service.js';
import { openImportFile, readAll, type PathPolicy } from '../datasets/serverFiles.js';

export const TEACHER_KINDS = ['IMPORTED', 'ENDPOINT'] as const;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

export interface RegisterTeacher { name: string; model: string; kind: string; baseUrl?: string | null; apiKeyEnv?: string | null }
export interface UpdateTeacherEndpoint { name: string; baseUrl: string; apiKeyEnv?: string | null }

/** What registering and re-pointing a teacher are checked against: the operator's key and host allowlists. */
export type TeacherSettings = SecretSettings & OutboundSettings;

/** Where and with which key a teacher is called: the settings only an ADMIN may change once a teacher exists. */
interface EndpointSettings { kind: string; baseUrl: string | null; apiKeyEnv: string | null }

function checkEndpoint(settings: EndpointSettings, env: TeacherSettings): void {
  if (settings.kind === 'ENDPOINT' && !settings.baseUrl) {
    throw badInput('an ENDPOINT teacher needs baseUrl (an OpenAI-compatible base URL, e.g. http://host:8000/v1)');
  }
  if (settings.baseUrl) {
    try {
      checkOutboundUrl(settings.baseUrl, outboundPolicyOf(env));
    } catch (err) {
      // our own words (scheme, credentials, a refused address range), never the URL's secrets
      if (err instanceof OutboundError) throw badInput(`baseUrl: ${err.message}`);
      throw err;
    }
  }
  if (settings.apiKeyEnv) checkSecretEnvName('apiKeyEnv', settings.apiKeyEnv, env);
}

const sameEndpoint = (a: EndpointSettings, b: EndpointSettings) => a.kind === b.kind && a.baseUrl === b.baseUrl && a.apiKeyEnv === b.apiKeyEnv;

/**
 * Creates a teacher. Registering an existing name again is allowed (idempotent; the model name may change) only
 * with the same endpoint settings: re-pointing a teacher would send its real key to the new URL, so that is
 * updateTeacherEndpoint's job, which only an ADMIN may call. A different endpoint gets CONFLICT.
 */
export async function registerTeacher(db: Database, input: RegisterTeacher, env: TeacherSettings) {
  if (!NAME_RE.test(input.name)) throw badInput('teacher name: 1-100 of letters, digits, ".", "_", "-"');
  if (!(TEACHER_KINDS as readonly string[]).includes(input.kind)) throw badInput(`teacher kind must be IMPORTED or ENDPOINT`);
  if (!input.model.trim()) throw badInput('teacher model must not be empty');
  const endpoint: EndpointSettings = { kind: input.kind, baseUrl: input.baseUrl ?? null, apiKeyEnv: input.apiKeyEnv ?? null };
  checkEndpoint(endpoint, env);
  const model = input.model.trim();
  const existing = async () => {
    const teacher = await db.prisma.teacher.findUnique({ where: { name: input.name } });
    if (!teacher) return undefined;
    if (!sameEndpoint(teacher, endpoint)) {
      throw conflict(`teacher ${input.name} already exists with other endpoint settings; an ADMIN changes them with updateTeacherEndpoint`);
    }
    return teacher.model === model ? teacher : db.prisma.teacher.update({ where: { id: teacher.id }, data: { model } });
  };
  const found = await existing();
  if (found) return found;
  try {
    return await db.prisma.teacher.create({ data: { name: input.name, model, ...endpoint } });
  } catch (err) {
    // a concurrent registration of the same name won the race: the same rules apply to its row
    if ((err as { code?: unknown })?.code === 'P2002') return (await existing())!;
    throw err;
  }
}

/** Points an existing teacher at another endpoint and/or key variable (ADMIN only, see ACCESS); it becomes ENDPOINT. */
export async function updateTeacherEndpoint(db: Database, input: UpdateTeacherEndpoint, env: TeacherSettings) {
  const endpoint: EndpointSettings = { kind: 'ENDPOINT', baseUrl: input.baseUrl, apiKeyEnv: input.apiKeyEnv ?? null };
  checkEndpoint(endpoint, env);
  const teacher = await db.prisma.teacher.findUnique({ where: { name: input.name } });
  if (!teacher) throw notFound(`teacher ${input.name}`);
  return db.prisma.teacher.update({ where: { id: teacher.id }, data: endpoint });
}

export async function getTeacherByName(db: Database, name: string) {
  const teacher = await db.prisma.teacher.findUnique({ where: { name } });
  if (!teacher) throw notFound(`teacher ${name}`);
  return teacher;
}

interface CacheLine { line: number; example: string; teacher: string; sample: number; text: string }

function parseCacheLine(text: string, line: number): CacheLine | LineError {
  let o: Record<string, unknown>;
  // never the parser's message: it quotes the start of the line, i.e. of whatever file the path named
  try { o = JSON.parse(text); } catch { return { line, message: 'invalid JSON: each line must hold one JSON object' }; }
  if (!o || typeof o !== 'object' || Array.isArray(o)) return { line, message: 'expected a JSON object' };
  for (const f of ['example', 'teacher', 'text']) {
    if (!(f in o)) return { line, message: `missing field "${f}"` };
    if (typeof o[f] !== 'string') return { line, message: `field "${f}" must be a string` };
  }
  if (!NAME_RE.test(o.teacher as string)) return { line, message: `bad teacher name "${o.teacher}"` };
  const sample = o.sample ?? 0;
  if (typeof sample !== 'number' || !Number.isInteger(sample) || sample < 0 || sample > 10_000) {
    return { line, message: 'field "sample" must be an integer from 0 to 10000' };
  }
  if (!(o.text as string).trim()) return { line, message: 'field "text" is empty' };
  return { line, example: o.example as string, teacher: o.teacher as string, sample, text: o.text as string };
}

/** Imports teacher responses (JSONL text) for one dataset. All or nothing. */
export async function importTeacherResponses(db: Database, datasetId: string, jsonl: string) {
  const dataset = await db.prisma.dataset.findUnique({ where: { id: datasetId } });
  if (!dataset) throw notFound(`dataset ${datasetId}`);
  const errors: LineError[] = [];
  const lines: CacheLine[] = [];
  jsonl.split(/\r?\n/).forEach((text, i) => {
    if (!text.trim()) return;
    const parsed = parseCacheLine(text, i + 1);
    if ('message' in parsed) errors.push(parsed); else lines.push(parsed);
  });
  const examples = new Map((await db.prisma.example.findMany({ where: { datasetId }, select: { id: true, externalId: true } }))
    .map((e) => [e.externalId, e.id]));
  const teacherNames = [...new Set(lines.map((l) => l.teacher))];
  const teachers = new Map((await db.prisma.teacher.findMany({ where: { name: { in: teacherNames } } })).map((t) => [t.name, t]));
  const existing = new Set<string>();
  if (teachers.size > 0) {
    const rows = await db.prisma.teacherResponse.findMany({
      where: { teacherId: { in: [...teachers.values()].map((t) => t.id) }, example: { datasetId } },
      select: { teacherId: true, exampleId: true, sample: true },
    });
    for (const r of rows) existing.add(`${r.teacherId}|${r.exampleId}|${r.sample}`);
  }
  const seen = new Map<string, number>();
  for (const l of lines) {
    const exampleId = examples.get(l.example);
    if (!exampleId) { errors.push({ line: l.line, message: `example "${l.example}" is not in dataset ${dataset.name} v${dataset.version}` }); continue; }
    const key = `${l.teacher}|${l.example}|${l.sample}`;
    if (seen.has(key)) { errors.push({ line: l.line, message: `duplicate response (teacher ${l.teacher}, example ${l.example}, sample ${l.sample}; first on line ${seen.get(key)})` }); continue; }
    seen.set(key, l.line);
    const t = teachers.get(l.teacher);
    if (t && existing.has(`${t.id}|${exampleId}|${l.sample}`)) {
      errors.push({ line: l.line, message: `already cached (teacher ${l.teacher}, example ${l.example}, sample ${l.sample})` });
    }
  }
  if (lines.length === 0 && errors.length === 0) errors.push({ line: 0, message: 'the file has no responses' });
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line);
    throw badInput(`teacher cache import failed: ${errors.length} bad line(s), nothing imported. ` +
      errors.slice(0, 5).map((e) => `line ${e.line}: ${e.message}`).join('; '), { errors: errors.slice(0, 200), errorCount: errors.length });
  }
  return db.prisma.$transaction(async (tx) => {
    const ids = new Map<string, string>();
    for (const name of teacherNames) {
      const t = teachers.get(name) ?? await tx.teacher.create({ data: { name, kind: 'IMPORTED', model: name } });
      ids.set(name, t.id);
    }
    const rows = lines.map((l) => ({ teacherId: ids.get(l.teacher)!, exampleId: examples.get(l.example)!, sample: l.sample, text: l.text }));
    for (let i = 0; i < rows.length; i += 500) await tx.teacherResponse.createMany({ data: rows.slice(i, i + 500) });
    return { imported: rows.length, teacherIds: [...ids.values()] };
  }, { timeout: 300_000, maxWait: 30_000 });
}

/** A teacher cache JSONL named by a server path, read under `policy` (regular file, size cap, import root for API
 * callers; see datasets/serverFiles.ts). Default: server paths refused. */
export async function readCacheFile(path: string, policy: PathPolicy = { root: undefined, maxBytes: 0 }): Promise<string> {
  return (await readAll(await openImportFile(path, policy, 'teacher cache file'))).toString('utf8');
}

export interface CoverageRow { teacherId: string; datasetId: string; covered: number; total: number; responses: number }

/** Coverage of many (dataset, teacher) pairs at once: examples with >= minSamples responses. */
export async function coverage(db: Database, datasetId: string, minSamples: number): Promise<CoverageRow[]> {
  const total = await db.prisma.example.count({ where: { datasetId } });
  const rows = await rawQuery<{ teacherId: string; covered: unknown; responses: unknown }>(db,
    `SELECT t."teacherId", SUM(CASE WHEN t.n >= ? THEN 1 ELSE 0 END) AS covered, SUM(t.n) AS responses
     FROM (SELECT r."teacherId", r."exampleId", COUNT(*) AS n FROM "TeacherResponse" r
           JOIN "Example" e ON e."id" = r."exampleId" WHERE e."datasetId" = ? GROUP BY r."teacherId", r."exampleId") t
     GROUP BY t."teacherId" ORDER BY t."teacherId"`, [minSamples, datasetId]);
  return rows.map((r) => ({ teacherId: r.teacherId, datasetId, covered: toInt(r.covered), total, responses: toInt(r.responses) }));
}
