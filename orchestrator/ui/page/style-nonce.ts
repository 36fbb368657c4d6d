// xterm.js measures the font and writes what it measured into <style> elements it creates. The
// policy admits styles from this server and those carrying the page's nonce: give them the nonce.
// Imported for its effect by each page that shows terminals (main.ts, teacher.ts).
const styleNonce = document.querySelector<HTMLMetaElement>('meta[name="hn-style-nonce"]')?.content ?? '';
{
  const create = Document.prototype.createElement;
  Document.prototype.createElement = function (this: Document, tag: string, options?: ElementCreationOptions) {
    const el = create.call(this, tag, options);
    if (styleNonce && tag.toLowerCase() === 'style') (el as HTMLStyleElement).nonce = styleNonce;
    return el;
  } as typeof Document.prototype.createElement;
}

export {};
