// Vitest setup file: after each test file, remove the temporary folders it made with scratchDir.
import { afterAll } from 'vitest';
import { removeScratchDirs } from './scratch.js';

afterAll(removeScratchDirs);
