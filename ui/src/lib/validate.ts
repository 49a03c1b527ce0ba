// Pure checks of what the user types: chat names, message length, server address, idle time.
// No Vue, no IPC.

/** The longest chat name the UI accepts, in characters. */
export const CHAT_NAME_MAX = 50
/** The longest message, in characters (Unicode code points, as the backend counts). */
export const MESSAGE_MAX = 4000
/** The counter shows this close to the limit. */
export const MESSAGE_WARN_AT = MESSAGE_MAX - 200
/** The idle threshold's range, seconds (Rust's `settings::IDLE_RANGE`). */
export const IDLE_MIN = 10
export const IDLE_MAX = 3600

/** Length in characters as the backend counts them (code points, not UTF-16 units). */
export function charCount(text: string): number {
  return Array.from(text).length
}

export type ChatNameCheck =
  { ok: true; name: string } | { ok: false; error: 'required' | 'tooLong' }

/** A chat name, trimmed: 1 to `CHAT_NAME_MAX` characters. */
export function checkChatName(raw: string): ChatNameCheck {
  const name = raw.trim()
  if (!name) return { ok: false, error: 'required' }
  if (charCount(name) > CHAT_NAME_MAX) return { ok: false, error: 'tooLong' }
  return { ok: true, name }
}

/** True for an absolute http(s) address with a host. */
export function isHttpUrl(raw: string): boolean {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return false
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname.length > 0
}

/** True for a whole number of seconds in the allowed range. */
export function isIdleThreshold(secs: number): boolean {
  return Number.isInteger(secs) && secs >= IDLE_MIN && secs <= IDLE_MAX
}

/** What the composer shows about length: nothing, a counter near the limit, or over it. */
export function lengthState(text: string): { count: number; near: boolean; over: boolean } {
  const count = charCount(text)
  return { count, near: count >= MESSAGE_WARN_AT, over: count > MESSAGE_MAX }
}
