/** What the window and the command line say when the active model has indexed none of the library's photos. */
export function nothingIndexedMessage(model: string, photos: number): string {
  return `No photos are indexed with model ${model} yet: index them (${photos.toLocaleString('en')} ${photos === 1 ? 'photo' : 'photos'})`
}
