// Module resolution hook: `electron` resolves to the recording stand-in next to this file, for every
// importer (the built main bundle imports it as a bare specifier). Registered by register.mjs.
const standin = new URL('./electron.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if (specifier === 'electron') return { url: standin, shortCircuit: true };
  return nextResolve(specifier, context);
}
