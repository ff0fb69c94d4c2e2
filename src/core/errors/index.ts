export { HTTPError, isHTTPError } from './http-error.ts'
export { isLimitError, LimitError, type LimitName } from './limit-error.ts'
export { isNetworkError, NetworkError } from './network-error.ts'
export {
  excerptOf,
  isParseError,
  ParseError,
  type ParseErrorType,
  type ParsePosition,
} from './parse-error.ts'
export { isResumeError, ResumeError, type ResumeReason } from './resume-error.ts'
export {
  type AnySluiceError,
  type ErrorContext,
  isSluiceError,
  SluiceError,
  type SluiceErrorCode,
} from './sluice-error.ts'
export { isTimeoutError, TimeoutError, type TimeoutPhase } from './timeout-error.ts'
export { isTruncatedError, TruncatedError } from './truncated-error.ts'
export { isValidationError, ValidationError } from './validation-error.ts'
