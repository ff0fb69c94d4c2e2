// The part of react-dom/client the browser tests use. @types/react-dom is not installed in this checkout; once
// it is (a devDependency matching react-dom), delete this file.
declare module 'react-dom/client' {
  import type { ReactNode } from 'react'

  export interface Root {
    render(children: ReactNode): void
    unmount(): void
  }

  export function createRoot(container: Element | DocumentFragment): Root
}
