/**
 * What a function of the bearer token gave for the last token it was asked about. A client sends
 * the same token request after request, so a hash of it (the verified-token cache's key, DPoP's
 * `ath`) is computed once per token while that token keeps coming, and a repeat costs a string
 * comparison. One entry, no bound to keep: a different token simply replaces it.
 */
export class LastTokenMemo {
  readonly #derive: (token: string) => string;
  #token: string | null = null;
  #value = '';

  constructor(derive: (token: string) => string) {
    this.#derive = derive;
  }

  of(token: string): string {
    if (token !== this.#token) {
      this.#value = this.#derive(token);
      this.#token = token;
    }
    return this.#value;
  }
}
