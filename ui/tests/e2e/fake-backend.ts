// A small fake of the Rust side, run in the page: it implements the commands and events of
// src-tauri/CONTRACT.md over in-memory state, so Playwright flows behave as they would against
// the app (sign-in, chats, messages with seq and clientKey, history pages, unread counts,
// presence). Tests drive "other people" through `window.__CHATR_FAKE__`.
import type {
  Account,
  AppStatus,
  Chat,
  ChatView,
  DeviceCode,
  Message,
  Provider,
  ServerEvent,
  Settings,
  UiEvent,
  User,
} from '../../src/types'

/** What a test sets up before the page loads (`window.__CHATR_MOCK__`). */
export interface MockScenario {
  appStatus: AppStatus
  /** How many `get_app_status` calls fail before one succeeds. */
  failStatusTimes?: number
  /** `restore_session` answers this user (default: null, the sign-in view). */
  restore?: User | null
  /** `restore_session` takes this long (ms). */
  restoreDelayMs?: number
  providers?: Provider[]
  accounts?: Account[]
  /** Everyone but the signed-in user. */
  users?: User[]
  chats?: Array<Chat & { members: string[] }>
  /** Stored messages per chat id. */
  messages?: Record<string, Array<Omit<Message, 'chatId' | 'seq' | 'clientKey'>>>
  /** A group chat with this many generated messages, one a minute up to now. */
  bigChat?: { id: string; name: string; count: number }
  /** `load_history` page size (Rust's is the backend's; 50 here by default). */
  pageSize?: number
  settings?: Partial<Settings>
  /** How the device sign-in ends (default: it waits for `approveDevice()`). */
  device?: { outcome: 'wait' | 'approve' | 'expired' | 'denied' | 'offline'; afterMs?: number }
  /** The first N `send_message` calls fail with this kind. */
  sendFailures?: { count: number; kind: string }
  /** `send_message` takes this long (ms). */
  sendDelayMs?: number
}

type Pending<T> = { resolve: (v: T) => void; reject: (e: unknown) => void }

const PAGE = 50
const err = (kind: string, message: string) => ({ kind, message })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The fake; `handle` answers `invoke`, `emit` is set by the mock's entry point. */
export class FakeBackend {
  calls: string[] = []
  args: Array<{ cmd: string; args: Record<string, unknown> }> = []
  opened: string[] = []
  me: User | null = null
  users: User[]
  chats: Array<Chat & { members: string[] }>
  messages = new Map<string, Message[]>()
  settings: Settings
  unread: Record<string, number> = {}
  active: string | null = null
  accounts: Account[]
  private device: Pending<User> | null = null
  private statusCalls = 0
  private sends = 0
  private nextChat = 1
  emit: (event: UiEvent) => void = () => {}

  constructor(private s: MockScenario) {
    this.users = [...(s.users ?? [])]
    this.chats = (s.chats ?? []).map((c) => ({ ...c, members: [...c.members] }))
    this.accounts = [...(s.accounts ?? [])]
    this.settings = {
      serverUrl: null,
      idleThresholdSecs: 60,
      notifications: true,
      doNotDisturb: false,
      theme: 'system',
      restartNeeded: false,
      ...s.settings,
    }
    for (const [chatId, list] of Object.entries(s.messages ?? {}))
      this.messages.set(
        chatId,
        list.map((m, i) => ({ ...m, chatId, seq: i + 1, clientKey: `seed-${i + 1}` })),
      )
    if (s.bigChat) {
      const { id, name, count } = s.bigChat
      const from = this.users[0]?.id ?? 'local:someone'
      this.chats.push({ id, name, kind: 'group', owner: from, createdAt: 1, members: [from] })
      const start = Date.now() - count * 60_000
      this.messages.set(
        id,
        Array.from({ length: count }, (_, i) => ({
          chatId: id,
          seq: i + 1,
          from,
          text: `message ${i + 1}`,
          sentAt: start + i * 60_000,
          clientKey: `big-${i + 1}`,
        })),
      )
    }
  }

  // --- what tests call to act as the server or other people ---

  server(event: ServerEvent): void {
    this.emit({ type: 'server', data: event })
  }

  connection(state: 'connecting' | 'connected' | 'reconnecting' | 'closed', detail?: string) {
    this.emit({ type: 'connection', data: { state, detail: detail ?? null } })
  }

  /** Someone else posts in a chat. */
  say(chatId: string, from: string, text: string): Message {
    const message = this.store(chatId, from, text, `other-${Math.random()}`)
    this.server({ chatEvent: 'message', data: { message } })
    if (chatId !== this.active) {
      this.unread[chatId] = (this.unread[chatId] ?? 0) + 1
      this.pushUnread()
    }
    return message
  }

  typing(chatId: string, userId: string): void {
    this.emit({ type: 'typing', data: { chatId, userId } })
  }

  presence(userId: string, presence: 'online' | 'idle' | 'offline'): void {
    const user = this.users.find((u) => u.id === userId)
    if (user) user.presence = presence
    if (presence === 'idle') this.server({ chatEvent: 'userIsIdle', data: { userId } })
    else if (presence === 'offline') this.server({ chatEvent: 'userOffline', data: { userId } })
    else if (user) this.server({ chatEvent: 'userNotIdle', data: { userId } })
  }

  userJoins(user: User): void {
    this.users = [...this.users.filter((u) => u.id !== user.id), user]
    this.server({ chatEvent: 'userOnline', data: { user } })
  }

  /** `userId` opens a private chat with the signed-in user. */
  invite(userId: string): Chat {
    const other = this.users.find((u) => u.id === userId)!
    // As the backend: a chat first opened by the other person is theirs (`owner`).
    const chat = this.privateChat(other, other.id)
    this.server({ chatEvent: 'joinPrivateChat', data: { chat, grabFocus: false } })
    return chat
  }

  deleteByOwner(chatId: string): void {
    this.chats = this.chats.filter((c) => c.id !== chatId)
    this.server({ chatEvent: 'chatDeleted', data: { chatId } })
  }

  approveDevice(): void {
    this.device?.resolve(this.signIn({ id: 'github:42', name: 'Octo Cat', provider: 'github' }))
    this.device = null
  }

  // --- the commands ---

  async handle(cmd: string, a: Record<string, unknown>): Promise<unknown> {
    this.calls.push(cmd)
    this.args.push({ cmd, args: a })
    switch (cmd) {
      case 'get_app_status':
        this.statusCalls += 1
        if (this.statusCalls <= (this.s.failStatusTimes ?? 0))
          throw err('backendUnreachable', 'backend at http://127.0.0.1:9 is unreachable')
        return this.s.appStatus
      case 'get_settings':
        return { ...this.settings, restartNeeded: false }
      case 'save_settings': {
        const next = a.settings as Settings
        if (next.serverUrl !== null && !/^https?:\/\/\S+$/.test(next.serverUrl))
          throw err('badRequest', `“${next.serverUrl}” is not an http(s) address`)
        const restartNeeded = next.serverUrl !== this.settings.serverUrl
        this.settings = { ...next, restartNeeded: false }
        return { ...next, restartNeeded }
      }
      case 'open_in_browser': {
        const url = String(a.url)
        if (!/^https?:/i.test(url)) throw err('badUrl', 'only http and https links open')
        this.opened.push(url)
        return null
      }
      case 'list_providers':
        return this.s.providers ?? [{ name: 'local', kind: 'local', label: 'This computer' }]
      case 'restore_session':
        await sleep(this.s.restoreDelayMs ?? 0)
        return this.s.restore ? this.signIn(this.s.restore) : null
      case 'sign_in_local':
        return this.signIn({ id: `local:${String(a.name).toLowerCase()}`, name: String(a.name) })
      case 'list_accounts':
        return this.accounts
      case 'sign_in_account': {
        const account = this.accounts.find((x) => x.id === a.accountId)
        if (!account) throw err('notFound', 'this account is not remembered any more')
        return this.signIn({ id: account.userId, name: account.name, provider: account.provider })
      }
      case 'start_device_login':
        return this.startDevice(String(a.provider))
      case 'finish_device_login':
        return this.finishDevice()
      case 'cancel_device_login':
        this.device?.reject(err('cancelled', 'sign-in cancelled'))
        this.device = null
        return null
      case 'sign_out':
        if (a.forget) this.accounts = this.accounts.filter((x) => x.userId !== this.me?.id)
        this.me = null
        return null
      default:
        return this.chatCommand(cmd, a)
    }
  }

  private async chatCommand(cmd: string, a: Record<string, unknown>): Promise<unknown> {
    const me = this.me
    if (!me) throw err('signedOut', 'sign in first')
    const chatId = String(a.chatId)
    switch (cmd) {
      case 'list_chats':
        return this.chats
          .filter((c) => c.kind === 'group' || c.members.includes(me.id))
          .map((c) => this.view(c))
      case 'list_users':
        return [me, ...this.users]
      case 'create_chat': {
        const name = String(a.name).trim()
        if (!name) throw err('badRequest', 'a chat needs a name')
        const chat = { id: `chat-${this.nextChat++}`, name, kind: 'group' as const, owner: me.id }
        const full = { ...chat, createdAt: Date.now(), members: [me.id] }
        this.chats.push(full)
        this.server({ chatEvent: 'chatCreated', data: { chat: this.plain(full) } })
        return this.plain(full)
      }
      case 'join_chat': {
        const chat = this.chat(chatId)
        if (!chat.members.includes(me.id)) chat.members.push(me.id)
        this.server({ chatEvent: 'memberJoined', data: { chatId, user: me } })
        return this.plain(chat)
      }
      case 'leave_chat':
        this.chat(chatId).members = this.chat(chatId).members.filter((m) => m !== me.id)
        return null
      case 'delete_chat': {
        const chat = this.chat(chatId)
        if (chat.owner !== me.id) throw err('forbidden', 'only the owner may delete this chat')
        this.deleteByOwner(chatId)
        return null
      }
      case 'open_private_chat': {
        const other = this.users.find((u) => u.id === a.userId)
        if (!other) throw err('notFound', 'no such user')
        const chat = this.privateChat(other)
        this.server({ chatEvent: 'joinPrivateChat', data: { chat, grabFocus: true } })
        return chat
      }
      case 'send_message':
        return this.send(chatId, String(a.clientKey), String(a.text))
      case 'load_history': {
        const all = this.messages.get(chatId) ?? []
        const before = a.before === null ? Infinity : Number(a.before)
        const older = all.filter((m) => m.seq < before)
        return older.slice(-(this.s.pageSize ?? PAGE))
      }
      case 'send_typing':
        return null
      case 'set_active_chat':
        this.active = (a.chatId as string | null) ?? null
        if (this.active && this.unread[this.active]) {
          delete this.unread[this.active]
          this.pushUnread()
        }
        return null
      default:
        throw new Error(`the fake backend has no command ${cmd}`)
    }
  }

  private signIn(u: Pick<User, 'id' | 'name'> & { provider?: string }): User {
    this.me = { provider: 'local', ...u, presence: 'online' }
    // Like Rust: the session connects after the sign-in answer.
    setTimeout(() => this.connection('connecting'), 10)
    setTimeout(() => this.connection('connected'), 60)
    return this.me
  }

  private startDevice(provider: string): DeviceCode {
    return {
      provider,
      userCode: 'WDJB-MJHT',
      verificationUri: 'https://github.com/login/device',
      verificationUriComplete: 'https://github.com/login/device?user_code=WDJB-MJHT',
      expiresAt: Date.now() + 15 * 60_000,
    }
  }

  private finishDevice(): Promise<User> {
    const { outcome = 'wait', afterMs = 300 } = this.s.device ?? {}
    return new Promise<User>((resolve, reject) => {
      this.device = { resolve, reject }
      if (outcome === 'wait') return
      setTimeout(() => {
        if (outcome === 'approve') this.approveDevice()
        else {
          const messages = {
            expired: 'the code expired',
            denied: 'access denied',
            offline: 'no network',
          }
          this.device?.reject(err(outcome, messages[outcome]))
          this.device = null
        }
      }, afterMs)
    })
  }

  private async send(chatId: string, clientKey: string, text: string): Promise<Message> {
    this.sends += 1
    await sleep(this.s.sendDelayMs ?? 30)
    const fail = this.s.sendFailures
    if (fail && this.sends <= fail.count)
      throw err(fail.kind, 'not sent yet: the server cannot be reached')
    const known = (this.messages.get(chatId) ?? []).find((m) => m.clientKey === clientKey)
    if (known) return known
    const message = this.store(chatId, this.me!.id, text, clientKey)
    // The group gets it too, the sender included (Rust de-duplicates by seq, the UI again).
    setTimeout(() => this.server({ chatEvent: 'message', data: { message } }), 5)
    return message
  }

  private store(chatId: string, from: string, text: string, clientKey: string): Message {
    const list = this.messages.get(chatId) ?? []
    const seq = (list[list.length - 1]?.seq ?? 0) + 1
    const message = { chatId, seq, from, text, sentAt: Date.now(), clientKey }
    this.messages.set(chatId, [...list, message])
    return message
  }

  private privateChat(other: User, opener?: string): Chat {
    const me = this.me!
    const id = `private:${[me.id, other.id].sort().join('+')}`
    let chat = this.chats.find((c) => c.id === id)
    if (!chat) {
      chat = {
        id,
        name: other.name,
        kind: 'private',
        owner: opener ?? me.id,
        createdAt: Date.now(),
        members: [],
      }
      this.chats.push(chat)
    }
    for (const m of [me.id, other.id]) if (!chat.members.includes(m)) chat.members.push(m)
    return this.plain(chat)
  }

  private pushUnread(): void {
    const total = Object.values(this.unread).reduce((x, y) => x + y, 0)
    this.emit({ type: 'unread', data: { counts: { ...this.unread }, total } })
  }

  private chat(id: string) {
    const chat = this.chats.find((c) => c.id === id)
    if (!chat) throw err('notFound', 'no such chat')
    return chat
  }

  private plain(c: Chat & { members: string[] }): Chat {
    return { id: c.id, name: c.name, kind: c.kind, owner: c.owner, createdAt: c.createdAt }
  }

  private view(c: Chat & { members: string[] }): ChatView {
    return { ...this.plain(c), member: c.members.includes(this.me?.id ?? '') }
  }
}
