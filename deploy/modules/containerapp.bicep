// The backend on Azure Container Apps: one image, the backend's managed identity for everything
// (registry pull, Web PubSub, Tables), HTTPS ingress, health probes on /api/health, and HTTP
// scaling. The backend is stateless: any number of replicas serve one hub and one store.

@description('Name of the container app.')
param name string

@description('Azure region.')
param location string

@description('Resource id of the Container Apps environment.')
param environmentId string

@description('The environment\'s default domain: the app is served at https://<name>.<this>.')
param environmentDomain string

@description('Application Insights connection string.')
param insightsConnectionString string

@description('Container registry login server, e.g. chatr.azurecr.io.')
param registryServer string

@description('Image in that registry, e.g. chatr-backend:0.1.0.')
param image string

@description('Resource id of the backend\'s managed identity.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID: which identity the backend asks tokens for).')
param identityClientId string

@description('Web PubSub endpoint (https://<host name>).')
param webPubSubEndpoint string

@description('Web PubSub host name: the only origin allowed to send events.')
param webPubSubHostName string

@description('The Web PubSub hub.')
param hubName string

@description('Audience of the tokens Web PubSub sends with events.')
param eventHandlerAudience string

@description('Object (principal) id of Web PubSub\'s managed identity: the only caller whose event tokens are accepted.')
param eventCallerPrincipalId string

@description('Table Storage endpoint (https://<account>.table.core.windows.net).')
param tableEndpoint string

@description('Prefix of the table names.')
param tablePrefix string

@description('Secret shared by the replicas to sign session tokens (at least 32 characters).')
@secure()
@minLength(32)
param sessionSecret string

@description('GitHub OAuth app client id (device flow); empty: GitHub sign-in off.')
param githubClientId string = ''

@description('Entra ID tenant and app (client) id; either empty: Microsoft sign-in off.')
param entraTenantId string = ''
param entraClientId string = ''

@description('Turn the name-only local sign-in on (trusted audiences only).')
param localSignIn bool = false

@description('Fewest and most replicas.')
@minValue(0)
param minReplicas int = 1
@minValue(1)
param maxReplicas int = 10

@description('Concurrent HTTP requests per replica before another is added.')
param concurrentRequests int = 50

param tags object = {}

// The app's own URL (the same main.bicep gives Web PubSub).
var backendUrl = 'https://${name}.${environmentDomain}'

var githubEnv = [{ name: 'CHATR_GITHUB_CLIENT_ID', value: githubClientId }]
var entraEnv = [
  { name: 'CHATR_ENTRA_TENANT_ID', value: entraTenantId }
  { name: 'CHATR_ENTRA_CLIENT_ID', value: entraClientId }
]
var entraOn = !empty(entraTenantId) && !empty(entraClientId)
var localEnv = [{ name: 'CHATR_LOCAL_SIGNIN', value: 'true' }]
var providerEnv = concat(empty(githubClientId) ? [] : githubEnv, entraOn ? entraEnv : [], localSignIn ? localEnv : [])

// What the backend reads (backend/src/main.rs); identity providers are added when configured.
var baseEnv = [
  { name: 'CHATR_LISTEN', value: '0.0.0.0:8080' }
  { name: 'CHATR_PUBLIC_URL', value: backendUrl }
  { name: 'CHATR_WEBPUBSUB_ENDPOINT', value: webPubSubEndpoint }
  { name: 'CHATR_WEBPUBSUB_HUB', value: hubName }
  { name: 'CHATR_EVENT_ISSUER', value: 'https://sts.windows.net/${tenant().tenantId}/' }
  { name: 'CHATR_EVENT_AUDIENCE', value: eventHandlerAudience }
  { name: 'CHATR_EVENT_CALLER', value: eventCallerPrincipalId }
  { name: 'CHATR_ALLOWED_ORIGINS', value: webPubSubHostName }
  { name: 'CHATR_TABLE_ENDPOINT', value: tableEndpoint }
  { name: 'CHATR_TABLE_PREFIX', value: tablePrefix }
  { name: 'CHATR_SESSION_SECRET', secretRef: 'session-secret' }
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insightsConnectionString }
  { name: 'RUST_LOG', value: 'info' }
]

resource app 'Microsoft.App/containerApps@2024-03-01' = {
  name: name
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    managedEnvironmentId: environmentId
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        external: true
        targetPort: 8080
        transport: 'auto'
        allowInsecure: false
      }
      registries: [{ server: registryServer, identity: identityId }]
      secrets: [{ name: 'session-secret', value: sessionSecret }]
    }
    template: {
      containers: [
        {
          name: 'backend'
          image: '${registryServer}/${image}'
          resources: { cpu: json('0.5'), memory: '1Gi' }
          env: concat(baseEnv, providerEnv)
          probes: [
            {
              type: 'Liveness'
              httpGet: { path: '/api/health', port: 8080 }
              periodSeconds: 10
            }
            {
              type: 'Readiness'
              httpGet: { path: '/api/health', port: 8080 }
              periodSeconds: 5
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http'
            http: { metadata: { concurrentRequests: string(concurrentRequests) } }
          }
        ]
      }
    }
  }
}

output url string = backendUrl
output fqdn string = app.properties.configuration.ingress.fqdn
