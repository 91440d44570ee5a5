// Loaded with `node --import`: reports on stderr every module of sharp or onnxruntime the process
// resolves, so a test can tell whether a command that needs neither loads them.
import { register } from 'node:module'

const hook = `
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context)
  if (/node_modules\\/(sharp|onnxruntime-node)\\//.test(resolved.url)) process.stderr.write('native module loaded: ' + resolved.url + '\\n')
  return resolved
}`
register(`data:text/javascript,${encodeURIComponent(hook)}`, import.meta.url)
