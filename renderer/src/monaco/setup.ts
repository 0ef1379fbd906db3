/**
 * Monaco, bundled locally (never a CDN), with only what the scenario editor needs: the core editor,
 * its standard contributions, and the TypeScript language with its worker. The scenario API's
 * declaration file (types/scenario.d.ts) goes in as an extra lib, so completion, hover docs and
 * diagnostics know createHost(), expectOk(), GiB… before anything runs.
 *
 * Compiler options mirror tsconfig.scenarios.json: ES2022 without DOM or Node types, strict, and every
 * file its own module (moduleDetection "force"), so two open scenarios' top-level `const host` do not
 * clash while the API stays global.
 */
import * as monaco from 'monaco-editor/editor';
import 'monaco-editor/features/register.all';
import 'monaco-editor/languages/definitions/typescript/register';
import { ScriptTarget, typescriptDefaults } from 'monaco-editor/languages/features/typescript/register';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import TsWorker from 'monaco-editor/languages/features/typescript/ts.worker?worker';
import scenarioTypes from '../../../types/scenario.d.ts?raw';

export { monaco };

export const SCENARIO_TYPES_URI = 'file:///types/scenario.d.ts';

/** ts.ModuleDetectionKind.Force */
const MODULE_DETECTION_FORCE = 3;

let done = false;

export function setupMonaco(): typeof monaco {
  if (done) return monaco;
  done = true;
  (self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
    getWorker(_id: string, label: string) {
      if (label === 'typescript' || label === 'javascript') return new TsWorker();
      return new EditorWorker();
    },
  };
  typescriptDefaults.setCompilerOptions({
    target: ScriptTarget.ES2020,
    lib: ['es2022'],
    types: [],
    strict: true,
    noEmit: true,
    allowNonTsExtensions: true,
    moduleDetection: MODULE_DETECTION_FORCE,
  });
  typescriptDefaults.setDiagnosticsOptions({ noSemanticValidation: false, noSyntaxValidation: false });
  typescriptDefaults.setEagerModelSync(true);
  typescriptDefaults.addExtraLib(scenarioTypes, SCENARIO_TYPES_URI);
  monaco.editor.defineTheme('dmawb-dark', {
    base: 'vs-dark',
    inherit: true,
    // comments a little lighter than vs-dark's #608b4e (4.48:1 here): text contrast at least 4.5:1
    rules: [{ token: 'comment', foreground: '74a863' }],
    colors: { 'editor.background': '#16181d', 'editorGutter.background': '#16181d' },
  });
  return monaco;
}

/** Model URI of a workspace scenario file. */
export function scenarioUri(name: string): monaco.Uri {
  return monaco.Uri.parse(`file:///workspace/${encodeURIComponent(name)}`);
}
