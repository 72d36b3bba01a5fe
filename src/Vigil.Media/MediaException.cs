namespace Vigil.Media;

/// <summary>An input could not be opened or read. The message is one line meant for the operator.</summary>
public class MediaException(string message) : Exception(message);

/// <summary>A live input delivered no data for longer than its I/O timeout.</summary>
public sealed class MediaStalledException(string message) : MediaException(message);
