// Keeps keyboard focus inside a dialog while it is open: focus moves in when it opens (to the
// element marked `data-autofocus`, or the first focusable one), Tab and Shift+Tab cycle inside,
// and focus goes back where it was when it closes.
import { nextTick, onScopeDispose, watch, type Ref } from 'vue'

const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])'

function focusables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => !el.hidden)
}

/** Traps focus in `root` while `active` is true. */
export function useFocusTrap(root: Ref<HTMLElement | null>, active: Ref<boolean>): void {
  let previous: HTMLElement | null = null

  function onKey(event: KeyboardEvent): void {
    if (event.key !== 'Tab' || !root.value) return
    const items = focusables(root.value)
    if (items.length === 0) return event.preventDefault()
    const first = items[0]
    const last = items[items.length - 1]
    const current = document.activeElement
    if (event.shiftKey && (current === first || !root.value.contains(current))) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && (current === last || !root.value.contains(current))) {
      event.preventDefault()
      first.focus()
    }
  }

  async function activate(): Promise<void> {
    previous = document.activeElement as HTMLElement | null
    document.addEventListener('keydown', onKey, true)
    await nextTick()
    const el = root.value
    if (!el) return
    const target = el.querySelector<HTMLElement>('[data-autofocus]') ?? focusables(el)[0] ?? el
    target.focus()
  }

  function deactivate(): void {
    document.removeEventListener('keydown', onKey, true)
    if (previous && document.contains(previous)) previous.focus()
    previous = null
  }

  watch(active, (on) => (on ? void activate() : deactivate()), { immediate: true })
  onScopeDispose(() => {
    if (active.value) deactivate()
  })
}
