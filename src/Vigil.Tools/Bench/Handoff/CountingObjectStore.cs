using System.Buffers;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Vigil.Tools.Bench.Handoff;

/// <summary>
/// One bucket of an S3-compatible store through AWSSDK.S3, configured as the service's results store is
/// (path-style, no chunked-signature puts, checksums only when required), counting every request and every
/// body byte. Thread-safe (one client, its connection pool shared by the caller's threads).
/// </summary>
public sealed class CountingObjectStore : IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private long _puts, _gets, _bytesPut, _bytesGot;

    /// <param name="serviceUrl">The store, e.g. <c>http://127.0.0.1:4568</c>.</param>
    /// <param name="bucket">The bucket every key lives in.</param>
    /// <param name="accessKey">Its access key (s3rver's fixed one in the benchmark).</param>
    /// <param name="secretKey">Its secret key.</param>
    public CountingObjectStore(string serviceUrl, string bucket, string accessKey, string secretKey)
    {
        _bucket = bucket;
        _client = new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = serviceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 2,
        });
    }

    /// <summary>PUT requests made.</summary>
    public long Puts => Interlocked.Read(ref _puts);

    /// <summary>GET requests made.</summary>
    public long Gets => Interlocked.Read(ref _gets);

    /// <summary>Body bytes uploaded.</summary>
    public long BytesPut => Interlocked.Read(ref _bytesPut);

    /// <summary>Body bytes downloaded.</summary>
    public long BytesGot => Interlocked.Read(ref _bytesGot);

    /// <summary>Creates the bucket (not counted: set-up, not hand-off).</summary>
    public Task CreateBucketAsync(CancellationToken cancel) => _client.PutBucketAsync(new PutBucketRequest { BucketName = _bucket }, cancel);

    /// <summary>Puts <paramref name="content"/> under <paramref name="key"/>.</summary>
    public async Task PutAsync(string key, ReadOnlyMemory<byte> content, CancellationToken cancel)
    {
        using var body = new ReadOnlyMemoryStream(content);
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = body,
            AutoCloseStream = false,
            ContentType = "application/octet-stream",
            UseChunkEncoding = false,
        }, cancel).ConfigureAwait(false);
        Interlocked.Increment(ref _puts);
        Interlocked.Add(ref _bytesPut, content.Length);
    }

    /// <summary>
    /// Gets the object under <paramref name="key"/> into a buffer rented from <see cref="ArrayPool{T}.Shared"/>
    /// (the caller returns it); the object is its first <c>Length</c> bytes.
    /// </summary>
    public async Task<(byte[] Buffer, int Length)> GetAsync(string key, CancellationToken cancel)
    {
        using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, cancel).ConfigureAwait(false);
        var length = checked((int)response.ContentLength);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            await response.ResponseStream.ReadExactlyAsync(buffer.AsMemory(0, length), cancel).ConfigureAwait(false);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
        Interlocked.Increment(ref _gets);
        Interlocked.Add(ref _bytesGot, length);
        return (buffer, length);
    }

    /// <summary>
    /// How many objects the bucket holds (LIST requests, not counted: the benchmark's check, after the run). Pages by
    /// marker (ListObjects v1): s3rver 3.7 fails to make ListObjectsV2 continuation tokens on Node 20's OpenSSL.
    /// </summary>
    public async Task<long> CountObjectsAsync(CancellationToken cancel)
    {
        long count = 0;
        string? marker = null;
        for (var page = 0; page < 1_000_000; page++)
        {
            var listed = await _client.ListObjectsAsync(new ListObjectsRequest { BucketName = _bucket, Marker = marker }, cancel).ConfigureAwait(false);
            var objects = listed.S3Objects ?? [];
            count += objects.Count;
            if (listed.IsTruncated != true || objects.Count == 0) return count;
            marker = objects[^1].Key;
        }
        throw new InvalidOperationException("the bucket listing did not end");
    }

    public void Dispose() => _client.Dispose();

    /// <summary>A read-only, seekable stream over memory (the SDK seeks to sign the body and to retry).</summary>
    private sealed class ReadOnlyMemoryStream(ReadOnlyMemory<byte> memory) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => memory.Length;

        public override long Position
        {
            get => _position;
            set => _position = (int)Math.Clamp(value, 0, memory.Length);
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(buffer.Length, memory.Length - _position);
            memory.Span.Slice(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => memory.Length + offset,
        };

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
