/**
 * Whether a process is still running: temporary files and staging folders carry their writer's
 * process id, so leftovers of a killed run can be swept without touching a run in progress.
 */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
