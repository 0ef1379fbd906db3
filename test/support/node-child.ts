/** Node child processes for tests that serve something (a mirror, a server) from the test process itself. */
import { spawn } from 'node:child_process';

/**
 * Runs this Node with `args` asynchronously (a synchronous spawn would block what the test serves), collects
 * its output, and kills it after 60 s so a hang ends as a failure instead of a stuck suite.
 */
export function node(
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
