import type { IncomingMessage } from 'node:http'

/** A request body refused before it reached a method, with the HTTP status that says why. */
export class BodyRefused extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string
  ) {
    super(message)
    this.name = 'BodyRefused'
  }
}

export interface JsonBodyLimits {
  maxBytes: number
  /** Levels of lists and objects. */
  maxDepth: number
}

/** A refused body is drained up to this many times the limit, then the connection is cut. */
const DRAIN_FACTOR = 16

/**
 * Reads a request's JSON body within limits; an empty body is `{}`. A body over `maxBytes` is
 * refused as soon as that is known (from Content-Length, or once that much has come), and what the
 * client still sends is read and dropped so that it gets the answer rather than a reset
 * connection; one that keeps sending far past the limit is cut off. The nesting is counted on the
 * text before parsing, so nothing downstream (the parser, the engine channel's serialiser) ever
 * meets a value nested thousands deep.
 */
export function readJsonBody(req: IncomingMessage, limits: JsonBodyLimits): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let size = 0
    let chunks: Buffer[] | null = []
    const refuse = () => {
      chunks = null
      reject(new BodyRefused(413, `The request body is larger than ${limits.maxBytes} bytes`))
    }
    if (Number(req.headers['content-length']) > limits.maxBytes) refuse()
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (chunks === null) {
        if (size > limits.maxBytes * DRAIN_FACTOR) req.destroy()
      } else if (size > limits.maxBytes) refuse()
      else chunks.push(chunk)
    })
    req.on('end', () => {
      if (chunks === null) return
      const text = Buffer.concat(chunks).toString('utf8')
      if (nestsDeeperThan(text, limits.maxDepth)) return reject(new BodyRefused(400, `The request body nests deeper than ${limits.maxDepth} levels`))
      try {
        resolve(JSON.parse(text || '{}'))
      } catch (err) {
        reject(new BodyRefused(400, (err as Error).message))
      }
    })
    req.on('error', reject)
  })
}

/** Whether JSON text opens more than `max` lists and objects inside one another (brackets in strings do not count). */
export function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return false
}
