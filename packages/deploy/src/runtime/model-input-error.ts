/** A model file or an image the runtime cannot use; the message is one line naming the file. */
export class ModelInputError extends Error {
  override readonly name = 'ModelInputError';
}
