import { describe, expect, it } from 'vitest'
import { describeStatus } from '../../../src/lib/status'
import type { AppStatus } from '../../../src/types'

const status: AppStatus = {
  appVersion: '0.1.0',
  backendUrl: 'http://127.0.0.1:4000',
  backendMode: 'embedded',
  backend: { status: 'ok', service: 'chatr-backend', version: '0.1.0' },
}

describe('describeStatus', () => {
  it('says it is checking while the first answer is pending', () => {
    expect(describeStatus({ kind: 'checking' })).toEqual({
      text: 'Checking the backend…',
      tone: 'info',
    })
  })

  it('names the mode, URL, service and version of a healthy backend', () => {
    expect(describeStatus({ kind: 'ready', status })).toEqual({
      text: 'Embedded backend at http://127.0.0.1:4000 is up (chatr-backend 0.1.0)',
      tone: 'success',
    })
  })

  it('calls a configured server just "Backend"', () => {
    const remote = { ...status, backendMode: 'remote' as const, backendUrl: 'https://chat.example' }
    expect(describeStatus({ kind: 'ready', status: remote }).text).toBe(
      'Backend at https://chat.example is up (chatr-backend 0.1.0)',
    )
  })

  it('says so when it joined the embedded backend of another Chatr window', () => {
    const joined = { ...status, backendMode: 'joined' as const }
    expect(describeStatus({ kind: 'ready', status: joined }).text).toBe(
      'Embedded backend of another Chatr window at http://127.0.0.1:4000 is up (chatr-backend 0.1.0)',
    )
  })

  it('warns when the backend reports itself degraded', () => {
    const degraded = { ...status, backend: { ...status.backend, status: 'degraded' as const } }
    expect(describeStatus({ kind: 'ready', status: degraded }).tone).toBe('warning')
  })

  it('shows the error message of a failure in danger colour', () => {
    const failed = describeStatus({
      kind: 'failed',
      error: { kind: 'backendUnreachable', message: 'connection refused' },
    })
    expect(failed).toEqual({ text: 'Backend unreachable: connection refused', tone: 'danger' })
  })
})
