// Parameters of deploy/main.bicep. Fill in the three values marked below, or pass them on the
// command line: `-p eventHandlerAudience=… registryName=… sessionSecret=…`.
using 'main.bicep'

param name = 'chatr'
param webPubSubSku = 'Standard_S1'
param webPubSubUnits = 1
param hubName = 'chat'
// The Application ID URI of the backend's Entra app registration (README step 3).
param eventHandlerAudience = 'api://chatr-backend'
// Your Azure Container Registry in the same resource group (README step 2).
param registryName = 'chatrregistry'
param image = 'chatr-backend:0.1.0'
// Generated at deployment: never commit a real secret.
param sessionSecret = readEnvironmentVariable('CHATR_SESSION_SECRET', '')
param githubClientId = ''
param entraTenantId = ''
param entraClientId = ''
param minReplicas = 1
param maxReplicas = 10
