/**
 * The platforms of the sandbox: every connector whose definition brings an emulator
 * (`ConnectorDefinition.sandbox`), chosen with STOCKRELAY_SANDBOX (server/connectors/index.ts
 * `chooseSandbox`). Nothing here names a platform.
 */
export { chooseSandbox, sandboxCapable, SandboxChoiceError, type SandboxPlatform } from './connectors';
import { chooseSandbox } from './connectors';

/** The platforms the sandbox runs when STOCKRELAY_SANDBOX does not say. */
export const SANDBOX_PLATFORMS = chooseSandbox(undefined);
