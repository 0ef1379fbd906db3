/**
 * types/scenario.d.ts (what the editor and tsc give scenario files) must describe exactly what the engine
 * implements (engine/api.ts). Both are hand-written for readability; this test compiles a probe that
 * assigns each type to its counterpart in both directions, so a drift in either file fails here.
 */
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

const probe = `
import type * as A from './engine/api.ts';
type Same<X, Y> = [X] extends [Y] ? ([Y] extends [X] ? true : false) : false;
const checks: true[] = [
  null as unknown as Same<Host, A.HostApi>,
  null as unknown as Same<Phb, A.PhbApi>,
  null as unknown as Same<IommuGroup, A.IommuGroupApi>,
  null as unknown as Same<Process, A.ProcessApi>,
  null as unknown as Same<Region, A.RegionInfo>,
  null as unknown as Same<GroupFd, A.GroupFdApi>,
  null as unknown as Same<DeviceFd, A.DeviceFdApi>,
  null as unknown as Same<Container, A.ContainerApi>,
  null as unknown as Same<DmawbWindow, A.WindowInfo>,
  null as unknown as Same<Tce, A.TceInfo>,
  null as unknown as Same<KvmVm, A.KvmVmApi>,
  null as unknown as Same<SpaprTceTable, A.SpaprTceTableApi>,
  null as unknown as Same<KvmVfioDevice, A.KvmVfioDeviceApi>,
  null as unknown as Same<KvmHcalls, A.KvmHcallsApi>,
  null as unknown as Same<HcallResult, A.HcallResult>,
  null as unknown as Same<HcallCall, A.HcallCall>,
  null as unknown as Same<QemuSpapr, A.QemuSpaprApi>,
  null as unknown as Same<QemuTceTable, A.QemuTceTableApi>,
  null as unknown as Same<QemuVfioCall, A.QemuVfioCall>,
  null as unknown as Same<IoctlResult<{ flags: number }>, A.IoctlResult<{ flags: number }>>,
  null as unknown as Same<NonNullable<Parameters<typeof createHost>[0]>, A.HostOptions>,
  null as unknown as Same<DmawbGuest, A.GuestOptions>,
  null as unknown as Same<NonNullable<Parameters<Host['spawn']>[0]>, A.SpawnOptions>,
];
export { checks };
`;

describe('the scenario declarations match the engine API', () => {
  it('every public type is mutually assignable', () => {
    const probeName = `${root}api-probe.ts`;
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: [],
      lib: ['lib.es2022.d.ts'],
    };
    const host = ts.createCompilerHost(options);
    const read = host.readFile.bind(host);
    host.readFile = (f) => (f === probeName ? probe : read(f));
    const exists = host.fileExists.bind(host);
    host.fileExists = (f) => f === probeName || exists(f);
    const getSource = host.getSourceFile.bind(host);
    host.getSourceFile = (f, lang) =>
      f === probeName ? ts.createSourceFile(f, probe, lang) : getSource(f, lang);
    const program = ts.createProgram([probeName, `${root}types/scenario.d.ts`], options, host);
    const diags = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diags).toEqual([]);
  }, 60_000);
});
