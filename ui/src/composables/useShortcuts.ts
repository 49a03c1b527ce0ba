// App-wide keys: Ctrl+K opens the chat switcher (from anywhere, once signed in); `?` opens the
// shortcut list, but only when focus is not in a text field, so typing a question mark in a
// message never does.
import { onScopeDispose } from 'vue'
import { isHelpKey, isSwitcherKey } from '../lib/keyboard'
import { useDialogs } from './useDialogs'

/** Listens for the shortcuts while the calling component lives. */
export function useShortcuts(enabled: () => boolean): void {
  const dialogs = useDialogs()
  function onKey(event: KeyboardEvent): void {
    if (!enabled() || event.defaultPrevented) return
    if (isSwitcherKey(event)) {
      event.preventDefault()
      dialogs.show('switcher')
    } else if (isHelpKey(event) && dialogs.open.value === null) {
      event.preventDefault()
      dialogs.show('shortcuts')
    }
  }
  window.addEventListener('keydown', onKey)
  onScopeDispose(() => window.removeEventListener('keydown', onKey))
}
