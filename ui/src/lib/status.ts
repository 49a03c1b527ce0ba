// Pure helpers for the status line: no Vue, no IPC.
import { strings } from '../strings'
import type { AppStatus, CommandError } from '../types'

/** What the status line is showing. */
export type StatusState =
  | { kind: 'checking' }
  | { kind: 'ready'; status: AppStatus }
  | { kind: 'failed'; error: CommandError }

/** The tone of the status line, as a Bulma colour. */
export type Tone = 'info' | 'success' | 'warning' | 'danger'

/** The sentence and colour for a status. */
export function describeStatus(state: StatusState): { text: string; tone: Tone } {
  switch (state.kind) {
    case 'checking':
      return { text: strings.status.checking, tone: 'info' }
    case 'failed':
      return { text: strings.status.failed(state.error.message), tone: 'danger' }
    case 'ready': {
      const { backendMode, backendUrl, backend } = state.status
      if (backend.status === 'ok') {
        return {
          text: strings.status.ok(backendMode, backendUrl, backend.service, backend.version),
          tone: 'success',
        }
      }
      return { text: strings.status.degraded(backendMode, backendUrl), tone: 'warning' }
    }
  }
}
