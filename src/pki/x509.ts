/**
 * The one entry point to @peculiar/x509 in Portcullis: import `x509` from here, never from the
 * package directly. @peculiar/x509 2.x loads tsyringe, which needs the Reflect metadata API at
 * import time; `reflect-metadata` provides it and must be evaluated first.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };
