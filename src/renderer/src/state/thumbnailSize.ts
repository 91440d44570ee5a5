import { computed, ref } from 'vue'
import { store, updateSettings } from './store'

/** The size being chosen, shown by every grid while the slider moves and until it is saved. */
const chosen = ref<number | null>(null)

/** The grids' thumbnail size (about this many CSS pixels wide). */
export const thumbnailSize = computed(() => chosen.value ?? store.settings.thumbnailSize)

export function previewThumbnailSize(size: number): void {
  chosen.value = size
}

export async function saveThumbnailSize(size: number): Promise<void> {
  chosen.value = size
  await updateSettings({ thumbnailSize: size })
  // Saved, or refused with its reason shown: from now on the grids show what is stored. A later
  // choice made meanwhile stays until its own save ends.
  if (chosen.value === size) chosen.value = null
}
