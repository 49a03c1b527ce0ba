// Chatr's backend on Azure: Web PubSub (the realtime service), Table Storage (the state), the
// backend on Container Apps, one managed identity with least-privilege roles, and logs. No access
// key or connection string is created or stored anywhere: everything authenticates with Entra ID.
//
//   az deployment group create -g <group> -f deploy/main.bicep -p deploy/main.bicepparam
//
// See deploy/README.md for the whole path from an empty subscription to a signed-in desktop app.

targetScope = 'resourceGroup'

@description('Prefix of every resource name (letters and digits, lowercase).')
@minLength(3)
@maxLength(12)
param name string = 'chatr'

@description('Azure region.')
param location string = resourceGroup().location

@description('Web PubSub tier.')
@allowed(['Free_F1', 'Standard_S1', 'Premium_P1'])
param webPubSubSku string = 'Standard_S1'

@description('Web PubSub units (1,000 concurrent connections each).')
param webPubSubUnits int = 1

@description('The hub; the backend is told the same name.')
param hubName string = 'chat'

@description('Audience of the tokens Web PubSub sends with events: the Application ID URI of an Entra app registration for the backend (deploy/README.md, step 3).')
param eventHandlerAudience string

@description('Name of an Azure Container Registry in this resource group holding the backend image.')
param registryName string

@description('The backend image in that registry.')
param image string

@description('Secret that signs session tokens, shared by all replicas (at least 32 characters).')
@secure()
@minLength(32)
param sessionSecret string

@description('Prefix of the table names.')
param tablePrefix string = 'chatr'

@description('GitHub OAuth app client id (device flow enabled); empty: GitHub sign-in off.')
param githubClientId string = ''

@description('Entra ID tenant for Microsoft sign-in (with entraClientId); empty: off.')
param entraTenantId string = ''
@description('Entra ID app (client) id for Microsoft sign-in (with entraTenantId); empty: off.')
param entraClientId string = ''

@description('Let anyone sign in with just a name (the desktop app\'s only sign-in today). For trials on a trusted audience only: the backend is public.')
param localSignIn bool = false

@description('Replication of the storage account. Standard_GZRS needs a region with availability zones; elsewhere use Standard_GRS.')
@allowed(['Standard_GZRS', 'Standard_RAGZRS', 'Standard_GRS', 'Standard_RAGRS'])
param storageSku string = 'Standard_GZRS'

@description('Fewest backend replicas (0 lets the app sleep; the first event then waits for a cold start).')
@minValue(0)
param minReplicas int = 1
@description('Most backend replicas.')
@minValue(1)
param maxReplicas int = 10

param tags object = { app: 'chatr' }

var suffix = uniqueString(resourceGroup().id)
var appName = '${name}-backend'

// The backend's URL, known before the app exists: Container Apps serve an app at
// https://<app name>.<environment default domain>. Web PubSub's event handler needs it, and the app
// needs Web PubSub's host name, so computing it here breaks that cycle.
var backendUrl = 'https://${appName}.${environment.outputs.defaultDomain}'

// AcrPull.
var acrPull = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: { name: '${name}-backend-id', location: location, tags: tags }
}

// Web PubSub's own identity: it only proves to the backend that events come from the service.
module webPubSubIdentity 'modules/identity.bicep' = {
  name: 'webpubsub-identity'
  params: { name: '${name}-webpubsub-id', location: location, tags: tags }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: { name: name, location: location, tags: tags }
}

module environment 'modules/environment.bicep' = {
  name: 'environment'
  params: {
    name: '${name}-env'
    location: location
    workspaceId: monitoring.outputs.workspaceId
    tags: tags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: take('${name}${suffix}', 24)
    location: location
    sku: storageSku
    tablePrefix: tablePrefix
    backendPrincipalId: identity.outputs.principalId
    tags: tags
  }
}

module webPubSub 'modules/webpubsub.bicep' = {
  name: 'webpubsub'
  params: {
    name: '${name}-${suffix}'
    location: location
    sku: webPubSubSku
    capacity: webPubSubUnits
    hubName: hubName
    backendUrl: backendUrl
    eventHandlerAudience: eventHandlerAudience
    identityId: webPubSubIdentity.outputs.id
    backendPrincipalId: identity.outputs.principalId
    tags: tags
  }
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' existing = {
  name: registryName
}

resource pull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: registry
  name: guid(registry.id, appName, acrPull)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPull)
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
}

module backend 'modules/containerapp.bicep' = {
  name: 'backend'
  dependsOn: [pull]
  params: {
    name: appName
    location: location
    environmentId: environment.outputs.id
    environmentDomain: environment.outputs.defaultDomain
    insightsConnectionString: monitoring.outputs.insightsConnectionString
    registryServer: registry.properties.loginServer
    image: image
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    webPubSubEndpoint: webPubSub.outputs.endpoint
    webPubSubHostName: webPubSub.outputs.hostName
    hubName: hubName
    eventHandlerAudience: eventHandlerAudience
    eventCallerPrincipalId: webPubSubIdentity.outputs.principalId
    tableEndpoint: storage.outputs.tableEndpoint
    tablePrefix: tablePrefix
    sessionSecret: sessionSecret
    githubClientId: githubClientId
    entraTenantId: entraTenantId
    entraClientId: entraClientId
    localSignIn: localSignIn
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    tags: tags
  }
}

@description('Point the desktop app here: chatr-desktop --server=<backendUrl>.')
output backendUrl string = backend.outputs.url
output webPubSubHostName string = webPubSub.outputs.hostName
output storageAccountName string = storage.outputs.name
output identityClientId string = identity.outputs.clientId
