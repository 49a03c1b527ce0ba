// The error notice: the last thing that failed, shown until dismissed. Never reloads anything.
import { ref } from 'vue'
import { toCommandError } from '../ipc'
import type { CommandError } from '../types'

const error = ref<CommandError | null>(null)

/** Shows `err` in the error notice (and logs it); the app carries on. */
export function reportError(err: unknown): void {
  const e = toCommandError(err)
  console.warn(`chatr: ${e.kind}: ${e.message}`)
  error.value = e
}

/** The current error and its controls. */
export function useErrors() {
  return {
    error,
    report: reportError,
    dismiss: () => {
      error.value = null
    },
  }
}
