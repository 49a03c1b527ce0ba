// Which keys mean what, app-wide. No Vue, no IPC.

/** True when typing goes into this element (so single-key shortcuts must not fire). */
export function isTextField(target: EventTarget | null): boolean {
  if (!target || typeof (target as Element).tagName !== 'string') return false
  const el = target as HTMLElement
  if (el.isContentEditable) return true
  const tag = el.tagName.toLowerCase()
  if (tag === 'textarea' || tag === 'select') return true
  if (tag !== 'input') return false
  const type = ((el as HTMLInputElement).type || 'text').toLowerCase()
  return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color'].includes(type)
}

type Keys = Pick<KeyboardEvent, 'key' | 'ctrlKey' | 'metaKey' | 'altKey' | 'target'>

/** Ctrl+K (Cmd+K on macOS): the chat switcher, from anywhere. */
export function isSwitcherKey(e: Keys): boolean {
  return (e.ctrlKey || e.metaKey) && !e.altKey && e.key.toLowerCase() === 'k'
}

/** `?`: the shortcut list, only when focus is not in a text field. */
export function isHelpKey(e: Keys): boolean {
  return e.key === '?' && !e.ctrlKey && !e.metaKey && !e.altKey && !isTextField(e.target)
}
