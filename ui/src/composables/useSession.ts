// Owns signing in and out: restoring the last session at start (the view shows "Signing in…"
// meanwhile, never the form), the providers and remembered accounts, the local name flow, the
// device code flow, and sign-out (asked for, or told by Rust with a reason).
import { ref } from 'vue'
import * as ipc from '../ipc'
import { strings } from '../strings'
import type { Account, CommandError, DeviceCode, Provider, User } from '../types'
import { useChats } from './useChats'
import { setConnection } from './useConnection'
import { reportError } from './useErrors'
import { setMe } from './useMe'
import { useMessages } from './useMessages'
import { useToasts } from './useToasts'
import { useTyping } from './useTyping'

export type Phase = 'restoring' | 'signedOut' | 'device' | 'signedIn'

/** A sentence on the sign-in view, and its colour. */
export interface Notice {
  text: string
  tone: 'danger' | 'info' | 'warning'
}

const phase = ref<Phase>('restoring')
const providers = ref<Provider[] | null>(null)
const providersError = ref<CommandError | null>(null)
const accounts = ref<Account[]>([])
const device = ref<DeviceCode | null>(null)
const notice = ref<Notice | null>(null)
const busy = ref(false)

/** The sign-in view's sentence for a failed sign-in, by kind. */
export function signInNotice(err: CommandError): Notice {
  const e = strings.signIn.errors
  switch (err.kind) {
    case 'cancelled':
      return { text: e.cancelled, tone: 'info' }
    case 'expired':
      return { text: e.expired, tone: 'warning' }
    case 'denied':
      return { text: e.denied, tone: 'danger' }
    case 'offline':
      return { text: e.offline, tone: 'danger' }
    case 'signIn':
      return { text: e.signIn(err.message), tone: 'danger' }
    default:
      return { text: e.other(err.message), tone: 'danger' }
  }
}

async function loadChoices(): Promise<void> {
  providersError.value = null
  const [p, a] = await Promise.allSettled([ipc.listProviders(), ipc.listAccounts()])
  if (p.status === 'fulfilled') providers.value = p.value
  else providersError.value = ipc.toCommandError(p.reason)
  accounts.value = a.status === 'fulfilled' ? a.value : []
}

async function enter(user: User): Promise<void> {
  setMe(user)
  notice.value = null
  try {
    await useChats().load()
  } catch (err) {
    reportError(err)
  }
  phase.value = 'signedIn'
}

function leave(): void {
  setMe(null)
  useChats().reset()
  useMessages().reset()
  useToasts().clear()
  useTyping().reset()
  device.value = null
  phase.value = 'signedOut'
  void loadChoices()
}

async function attempt(signIn: () => Promise<User>): Promise<void> {
  busy.value = true
  notice.value = null
  // Before the call: the session's first `connection` events arrive while it is still running.
  setConnection('connecting', null)
  try {
    await enter(await signIn())
  } catch (err) {
    notice.value = signInNotice(ipc.toCommandError(err))
    if (phase.value !== 'signedOut') phase.value = 'signedOut'
    void loadChoices()
  } finally {
    busy.value = false
    device.value = null
  }
}

/** Sign-in state and actions. */
export function useSession() {
  return {
    phase,
    providers,
    providersError,
    accounts,
    device,
    notice,
    busy,
    /** At start: a restored session goes straight in; otherwise the sign-in view. */
    start: async () => {
      phase.value = 'restoring'
      let user: User | null = null
      try {
        user = await ipc.restoreSession()
      } catch (err) {
        console.warn('chatr: no session to restore', err)
      }
      if (user) await enter(user)
      else {
        await loadChoices()
        phase.value = 'signedOut'
      }
    },
    retryProviders: loadChoices,
    signInLocal: (name: string) => attempt(() => ipc.signInLocal(name)),
    signInAccount: (account: Account) => attempt(() => ipc.signInAccount(account.id)),
    /** Shows the code, then waits for the approval (or expiry, refusal, cancel). */
    signInDevice: async (provider: Provider) => {
      notice.value = null
      try {
        device.value = await ipc.startDeviceLogin(provider.name)
      } catch (err) {
        notice.value = signInNotice(ipc.toCommandError(err))
        return
      }
      phase.value = 'device'
      await attempt(() => ipc.finishDeviceLogin())
    },
    cancelDevice: () => ipc.cancelDeviceLogin().catch(reportError),
    signOut: async (forget: boolean) => {
      try {
        await ipc.signOut(forget)
      } catch (err) {
        reportError(err)
      }
      leave()
    },
    /** Rust ended the session (tray, refused token): back to sign-in, saying why. */
    signedOut: (reason: string | null) => {
      if (phase.value !== 'signedIn') return
      leave()
      if (reason) notice.value = { text: strings.signIn.signedOut(reason), tone: 'warning' }
    },
  }
}
