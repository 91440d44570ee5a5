import { type Ref, computed, ref } from 'vue'
import { type SelectionState, select } from '../lib/gridSelection'
import type { PhotoSource } from '../state/photoSource'

/**
 * The photo a grid opened in the photo view, and stepping through its neighbours: the opened photo
 * is the grid's selection, so closing the view leaves the grid where the user was.
 */
export function useOpenPhoto(source: Readonly<Ref<PhotoSource | null>>, selection: Ref<SelectionState>) {
  const openIndex = ref<number | null>(null)
  const openPhoto = computed(() => (openIndex.value === null || !source.value ? null : source.value.item(openIndex.value)))

  function open(index: number): void {
    selection.value = select(selection.value, index, 'only')
    openIndex.value = index
  }

  function step(delta: number): void {
    if (openIndex.value === null || !source.value) return
    const next = openIndex.value + delta
    if (next < 0 || next >= source.value.count) return
    source.value.ensure(next, next + 1)
    open(next)
  }

  return { openIndex, openPhoto, open, step }
}
