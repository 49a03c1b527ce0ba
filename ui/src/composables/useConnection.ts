// The realtime connection's state, from Rust's `connection` events (the banner reads it).
import { ref } from 'vue'
import type { ConnectionState } from '../types'

const state = ref<ConnectionState>('connecting')
const detail = ref<string | null>(null)

/** Applies a `connection` event. */
export function setConnection(next: ConnectionState, why: string | null): void {
  state.value = next
  detail.value = why
}

/** The connection state and its detail (attempt number, or why it closed). */
export function useConnection() {
  return { state, detail }
}
