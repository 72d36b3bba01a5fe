using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Vigil.Service.Security;

namespace Vigil.Service.Segments;

/// <summary>Where aggregated results go: one object per key.</summary>
public interface IObjectStore
{
    /// <summary>Human-readable location, for logs.</summary>
    string Describe { get; }

    Task PutAsync(string key, byte[] content, string contentType, CancellationToken cancellation);
}

/// <summary>
/// A local folder; keys are relative paths. Written to a temporary name then renamed, so readers never see
/// half an object; folders and files are owner-only (0700, 0600) like the rest of the data folder.
/// </summary>
public sealed class LocalFolderStore(string root) : IObjectStore
{
    public string Describe => Path.GetFullPath(root);

    public async Task PutAsync(string key, byte[] content, string contentType, CancellationToken cancellation)
    {
        var path = Path.GetFullPath(Path.Combine(root, key));
        if (!path.StartsWith(Path.GetFullPath(root), StringComparison.Ordinal)) throw new ArgumentException($"key '{key}' leaves the results folder");
        OwnerOnly.CreateFolder(Path.GetDirectoryName(path)!);
        await OwnerOnly.WriteNewFileAsync(path, content, cancellation);
    }
}

/// <summary>
/// An S3 bucket on AWS or any S3-compatible server. Puts go without chunked (streaming-signature)
/// encoding and checksums are only sent when required, which S3-compatible servers need.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly S3Options _options;

    public S3ObjectStore(S3Options options)
    {
        _options = options;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            AuthenticationRegion = options.Region,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (!string.IsNullOrEmpty(options.ServiceUrl)) config.ServiceURL = options.ServiceUrl;
        else config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        _client = string.IsNullOrEmpty(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public string Describe => $"s3://{_options.Bucket} at {(string.IsNullOrEmpty(_options.ServiceUrl) ? _options.Region : _options.ServiceUrl)}";

    /// <summary>Creates the bucket when it is missing (if configured to).</summary>
    public async Task EnsureBucketAsync(CancellationToken cancellation)
    {
        if (!_options.CreateBucket) return;
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = _options.Bucket }, cancellation);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
        }
    }

    public async Task PutAsync(string key, byte[] content, string contentType, CancellationToken cancellation)
    {
        using var body = new MemoryStream(content, writable: false);
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _options.Bucket,
            Key = key,
            InputStream = body,
            ContentType = contentType,
            UseChunkEncoding = false,
        }, cancellation);
    }

    public void Dispose() => _client.Dispose();
}
