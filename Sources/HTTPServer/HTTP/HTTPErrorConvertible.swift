/// An error that knows its answer in the API's JSON error shape. ``ErrorResponse`` answers any such error a
/// handler lets escape with it; any other error is a 500.
public protocol HTTPErrorConvertible: Error {
    var httpError: HTTPError { get }
}

extension HTTPError: HTTPErrorConvertible {
    public var httpError: HTTPError { self }
}

extension HTTPParseError: HTTPErrorConvertible {}
extension MultipartError: HTTPErrorConvertible {}
extension RequestBodyError: HTTPErrorConvertible {}
