export { Recorder, type RecorderLogger, type RecorderOptions, type RecorderStats } from "./recorder.js";
