// A preload (`node --import ./test/helpers/trace-modules.mjs ...`) that writes every module file the process loads
// to the file named by RIL_TRACE_MODULES, one URL or path a line: each ES module resolution, through a resolve hook
// (module.register; it also sees the imports tsx resolves), and at exit every CommonJS module in require's cache
// (CommonJS packages imported from ES modules land there too, and so do the files they require in turn).
// test/cli-fast.test.ts uses it to check what a command loads.
import fs from 'node:fs';
import { createRequire, register } from 'node:module';

const out = process.env.RIL_TRACE_MODULES;
if (out) {
  const hooks = `
    import fs from 'node:fs';
    export async function resolve(specifier, context, next) {
      const r = await next(specifier, context);
      fs.appendFileSync(${JSON.stringify(out)}, r.url + '\\n');
      return r;
    }`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
  const require = createRequire(import.meta.url);
  process.on('exit', () => fs.appendFileSync(out, Object.keys(require.cache).join('\n') + '\n'));
}
