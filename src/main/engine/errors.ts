/**
 * An error the user can act on: `message` says what went wrong (naming the file, key or URL
 * involved) and `hint` says what to do about it. Front ends print both and never a stack trace.
 */
export class SdlError extends Error {
  constructor(
    message: string,
    readonly hint?: string
  ) {
    super(message)
    this.name = 'SdlError'
  }
}
