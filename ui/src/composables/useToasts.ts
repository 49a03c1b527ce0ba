// The seed's toasts (bottom centre, Bulma notification colours, gone after a few seconds), and the
// popup for an incoming private chat.
import { ref } from 'vue'
import type { Chat } from '../types'

export type Tone = 'success' | 'warning' | 'link' | 'danger' | 'info'

export interface Toast {
  id: number
  text: string
  tone: Tone
}

/** How long a toast stays (the seed's 1.5 s was too short to read). */
export const TOAST_MS = 3000

const toasts = ref<Toast[]>([])
const invites = ref<Chat[]>([])
let nextId = 1

function dismiss(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id)
}

/** Shows a toast. */
export function toast(text: string, tone: Tone): void {
  const id = nextId++
  toasts.value = [...toasts.value, { id, text, tone }]
  setTimeout(() => dismiss(id), TOAST_MS)
}

/** Shows the incoming private chat popup (once per chat). */
export function invite(chat: Chat): void {
  if (!invites.value.some((c) => c.id === chat.id)) invites.value = [...invites.value, chat]
}

/** Toasts and invitations, and how to dismiss them. */
export function useToasts() {
  return {
    toasts,
    invites,
    dismiss,
    dismissInvite: (chatId: string) => {
      invites.value = invites.value.filter((c) => c.id !== chatId)
    },
    clear: () => {
      toasts.value = []
      invites.value = []
    },
  }
}
