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

/**
 * Another SDL Tagger is writing to the library (indexing, watching, restoring), so this one must
 * not: a condition to wait out rather than a failure, which the command line reports with exit
 * code 2 so that scripts can tell it apart and retry later.
 */
export class LibraryBusyError extends SdlError {
  readonly exitCode = 2

  constructor(message: string, hint?: string) {
    super(message, hint)
    this.name = 'LibraryBusyError'
  }
}
