// Typing indicators: when to tell others, and who is typing now. No Vue, no IPC.
import { strings } from '../strings'

/** How long a `typing` event shows. */
export const TYPING_TTL_MS = 5000
/** `send_typing` at most this often while the user types. */
export const TYPING_SEND_INTERVAL_MS = 3000

/** Whether to call `send_typing` now, given when it was last called (null: never). */
export function shouldSendTyping(lastSentAt: number | null, now: number): boolean {
  return lastSentAt === null || now - lastSentAt >= TYPING_SEND_INTERVAL_MS
}

/** The users whose typing has not expired, in the order they started. */
export function activeTypers(expiry: Readonly<Record<string, number>>, now: number): string[] {
  return Object.entries(expiry)
    .filter(([, until]) => until > now)
    .map(([id]) => id)
}

/** The indicator's sentence for these names, or null when nobody types. */
export function describeTyping(names: readonly string[]): string | null {
  if (names.length === 0) return null
  if (names.length === 1) return strings.typing.one(names[0])
  if (names.length <= 3) return strings.typing.some([...names])
  return strings.typing.many
}
