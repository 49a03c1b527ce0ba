// Pure formatting of times and dates for the message list. No Vue, no IPC.
import { strings } from '../strings'

const pad = (n: number) => String(n).padStart(2, '0')

/** The local calendar day of `ms`, as `YYYY-MM-DD` (for day separators). */
export function dayKey(ms: number): string {
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

/** `HH:MM`, 24-hour, local time. */
export function formatTime(ms: number): string {
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** The day separator's label: Today, Yesterday, or the full date. */
export function formatDay(ms: number, now: number): string {
  const key = dayKey(ms)
  if (key === dayKey(now)) return strings.messages.today
  const yesterday = new Date(now)
  yesterday.setDate(yesterday.getDate() - 1)
  if (key === dayKey(yesterday.getTime())) return strings.messages.yesterday
  return new Intl.DateTimeFormat(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(new Date(ms))
}

/** Date and time in full (a message's tooltip). */
export function formatFull(ms: number): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' }).format(
    new Date(ms),
  )
}

/** What is left of a countdown, as `m:ss` (never negative). */
export function formatCountdown(ms: number): string {
  const secs = Math.max(0, Math.ceil(ms / 1000))
  return `${Math.floor(secs / 60)}:${pad(secs % 60)}`
}
