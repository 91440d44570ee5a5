import { type ChildProcess, spawn } from 'node:child_process'

/**
 * Perl run in the ExifTool process before ExifTool itself. ExifTool's `-stay_open True -@ -`
 * reads its commands from stdin and, at its end, keeps polling for more as if stdin were a file
 * that may grow: an app killed before it could end its ExifTool (SIGKILL, a crash, the task
 * manager) left perl processes behind forever. The app's death closes stdin, so here the end of
 * stdin (fd 0) ends the process; every other read is passed through unchanged.
 */
const EXIT_AT_END_OF_STDIN = [
  'use Symbol ();',
  '*CORE::GLOBAL::sysread = sub (*\\$$;$) {',
  '  my $fh = Symbol::qualify_to_ref($_[0], scalar caller);',
  '  my $n = @_ > 3 ? CORE::sysread($fh, ${$_[1]}, $_[2], $_[3]) : CORE::sysread($fh, ${$_[1]}, $_[2]);',
  '  exit 0 if defined $n && $n == 0 && fileno($fh) == 0;',
  '  return $n;',
  '};',
  // ExifTool finds its modules next to $0.
  '$0 = shift @ARGV;',
  'do $0;',
  'die $@ if $@;'
].join('\n')

/** Starts the bundled ExifTool as exiftool-vendored would, but ending when stdin does. */
export async function spawnExifToolExitingOnEof(): Promise<ChildProcess> {
  const { DefaultExiftoolArgs, exiftoolPath } = await import('exiftool-vendored')
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: 'C' }
  if (process.env.EXIFTOOL_HOME) env.EXIFTOOL_HOME = process.env.EXIFTOOL_HOME
  return spawn('perl', ['-e', EXIT_AT_END_OF_STDIN, await exiftoolPath(), ...DefaultExiftoolArgs], { stdio: 'pipe', env })
}
