/**
 * The shapes this binary serves (PRODUCT's table): the edge proxy on the http and https
 * listeners, forward auth on the auth listener and, over gRPC, on listeners.authGrpc. main.ts hands them to the runtime, so server/
 * never imports a shape (docs/architecture.md); tests that build a Runtime pass the same list.
 */
import { edgeShape } from './edge/shape.js';
import { forwardAuthShape } from './forward-auth/shape.js';
import { grpcAuthShape } from './forward-auth/grpc/shape.js';
import type { Shapes } from './server/listener.js';

export const SHAPES: Shapes = Object.freeze({ edge: edgeShape, auth: forwardAuthShape, authGrpc: grpcAuthShape });
