import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import AppModal from '../../../src/components/AppModal.vue'

function mountModal(open = true) {
  return mount(AppModal, {
    props: { open, title: 'Hello', closeLabel: 'Close' },
    slots: {
      default: '<input data-testid="a" data-autofocus /><button data-testid="b">B</button>',
    },
    attachTo: document.body,
  })
}

describe('AppModal', () => {
  it('is a modal dialog labelled by its title', () => {
    const wrapper = mountModal()
    const dialog = wrapper.get('[role=dialog]')
    expect(dialog.attributes('aria-modal')).toBe('true')
    const title = wrapper.get(`#${dialog.attributes('aria-labelledby')}`)
    expect(title.text()).toBe('Hello')
  })

  it('renders nothing while closed', () => {
    expect(mountModal(false).find('[role=dialog]').exists()).toBe(false)
  })

  it('closes on Escape, the close button and the backdrop', async () => {
    const wrapper = mountModal()
    await wrapper.get('[data-testid=a]').trigger('keydown', { key: 'Escape' })
    await wrapper.get('button.delete').trigger('click')
    await wrapper.get('.modal-background').trigger('click')
    expect(wrapper.emitted('close')).toHaveLength(3)
  })

  it('moves focus in, keeps Tab inside, and gives focus back on close', async () => {
    const outside = document.createElement('button')
    document.body.appendChild(outside)
    outside.focus()
    const wrapper = mountModal(false)
    await wrapper.setProps({ open: true })
    await nextTick()
    await nextTick()
    expect(document.activeElement).toBe(wrapper.get('[data-testid=a]').element)
    // From the last focusable element, Tab wraps to the first (the close button).
    ;(wrapper.get('[data-testid=b]').element as HTMLElement).focus()
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', bubbles: true }))
    expect(document.activeElement).toBe(wrapper.get('button.delete').element)
    document.dispatchEvent(
      new KeyboardEvent('keydown', { key: 'Tab', shiftKey: true, bubbles: true }),
    )
    expect(document.activeElement).toBe(wrapper.get('[data-testid=b]').element)
    await wrapper.setProps({ open: false })
    expect(document.activeElement).toBe(outside)
    outside.remove()
  })
})
