// Who is signed in. `useSession` is the only writer; everyone else reads.
import { readonly, ref } from 'vue'
import type { User } from '../types'

const me = ref<User | null>(null)

/** Sets the signed-in user (`useSession` only). */
export function setMe(user: User | null): void {
  me.value = user
}

/** The signed-in user, or null. */
export function useMe() {
  return readonly(me)
}
