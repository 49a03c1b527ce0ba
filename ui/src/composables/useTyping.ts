// Who is typing where (from Rust's `typing` events, each shown ~5 s), and telling others that I
// am (`send_typing`, at most every 3 s per chat).
import { computed, ref } from 'vue'
import * as ipc from '../ipc'
import { activeTypers, shouldSendTyping, TYPING_TTL_MS } from '../lib/typing'
import { useMe } from './useMe'

const expiry = ref<Record<string, Record<string, number>>>({})
const now = ref(Date.now())
const lastSent: Record<string, number> = {}
let timer: ReturnType<typeof setInterval> | null = null
const me = useMe()

function tick(): void {
  now.value = Date.now()
  const anyone = Object.values(expiry.value).some((m) => activeTypers(m, now.value).length > 0)
  if (!anyone && timer) {
    clearInterval(timer)
    timer = null
    expiry.value = {}
  }
}

/** A `typing` event: `userId` types in `chatId` for the next few seconds. */
function handleTyping(chatId: string, userId: string): void {
  if (userId === me.value?.id) return
  now.value = Date.now()
  expiry.value = {
    ...expiry.value,
    [chatId]: { ...expiry.value[chatId], [userId]: now.value + TYPING_TTL_MS },
  }
  if (!timer) timer = setInterval(tick, 500)
}

/** A message from `userId` ends their typing. */
function stopped(chatId: string, userId: string): void {
  const inChat = expiry.value[chatId]
  if (!inChat?.[userId]) return
  const rest = { ...inChat }
  delete rest[userId]
  expiry.value = { ...expiry.value, [chatId]: rest }
}

/** Typing state and the throttled notifier. */
export function useTyping() {
  return {
    handleTyping,
    stopped,
    /** The user ids typing in `chatId` now. */
    typers: (chatId: () => string | null) =>
      computed(() => {
        const id = chatId()
        return id ? activeTypers(expiry.value[id] ?? {}, now.value) : []
      }),
    /** Call on every keystroke in the composer; sends at most every 3 s. */
    notify: (chatId: string) => {
      const t = Date.now()
      if (!shouldSendTyping(lastSent[chatId] ?? null, t)) return
      lastSent[chatId] = t
      ipc.sendTyping(chatId).catch(() => {
        // Best effort: a lost typing signal is not worth a word.
      })
    },
    reset: () => {
      expiry.value = {}
      for (const chatId of Object.keys(lastSent)) delete lastSent[chatId]
    },
  }
}
