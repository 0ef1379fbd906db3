// Entry of the `dmawb` command (bin/dmawb.mjs imports this through tsx): runs on import, sets the exit code.
import { main } from './main.ts';

// `dmawb run x.ts | head`: a reader that goes away early is not an error of the run
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
});
process.exitCode = await main(process.argv.slice(2), {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
});
