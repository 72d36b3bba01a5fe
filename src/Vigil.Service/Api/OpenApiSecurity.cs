using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using Vigil.Service.Security;

namespace Vigil.Service.Api;

/// <summary>
/// Declares the API key in the OpenAPI document: two equivalent schemes (<c>X-Api-Key</c> header, or
/// <c>Authorization: Bearer</c>), required by every operation except the public ones, and each
/// operation says which kind of key it needs (read or admin) and that it answers 401/403 without one.
/// </summary>
public static class OpenApiSecurity
{
    public const string HeaderScheme = "ApiKey";
    public const string BearerScheme = "Bearer";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[HeaderScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = AccessKeys.Header,
                Description = "An admin key (ApiKeys, DATA/api-key) or a read-only key (ReadKeys, DATA/read-key).",
            };
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The same keys as 'Authorization: Bearer KEY'.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAllowAnonymous>().Any()) return Task.CompletedTask;
            var admin = metadata.OfType<IAuthorizeData>().Any(a => a.Policy == KeyAuthentication.AdminPolicy);
            operation.Security =
            [
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(HeaderScheme, context.Document)] = [] },
                new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] },
            ];
            var needs = admin ? "Needs an admin key." : "Needs a read key (or an admin key).";
            operation.Description = string.IsNullOrEmpty(operation.Description) ? needs : $"{operation.Description} {needs}";
            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No key, or not one of this service's keys" });
            if (admin) operation.Responses.TryAdd("403", new OpenApiResponse { Description = "A read-only key" });
            return Task.CompletedTask;
        });
    }
}
