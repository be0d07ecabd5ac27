/** A Jupyter mime bundle: mime type -> data (string or JSON). */
export type MimeBundle = Record<string, unknown>;
