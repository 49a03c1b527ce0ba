// Which app-wide dialog is open (one at a time): settings, the chat switcher, the shortcut list.
import { ref } from 'vue'

export type DialogName = 'settings' | 'switcher' | 'shortcuts'

const open = ref<DialogName | null>(null)

/** The open dialog and how to open or close one. */
export function useDialogs() {
  return {
    open,
    show: (name: DialogName) => {
      open.value = name
    },
    close: () => {
      open.value = null
    },
  }
}
